//! Fault injection and the HTTP front door shared by every simulator.
//!
//! A simulator builds its axum [`Router`] and hands it to `serve`, which adds
//! the two pieces every panel shares:
//!
//! - a middleware (`front_door`) that counts requests, logs them, answers with
//!   the injected [`Fault`] instead of the panel when one is set, and holds every
//!   answer back by the injected delay;
//! - a listener wrapper (`listener`) that, while
//!   [`Fault::DropConnection`] is set, closes connections without answering:
//!   new ones right after `accept`, open keep-alive ones at their next read
//!   (a pooled client connection would otherwise slip past the fault).
//!
//! A simulator whose panel answers `CONNECT /path` with a body (OpenAdmin's
//! Python-era autologin) is served by `serve_with_raw_connect` instead: hyper
//! strips the body of a 2xx answer to CONNECT, so `connect` answers
//! connections that open with CONNECT itself, through the same router.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

mod connect;
mod front_door;
mod listener;

use front_door::with_front_door;
pub(crate) use front_door::with_unknown_size;
use listener::{FaultListener, Incoming};

/// One injected failure, applied to every request while set. The panel
/// itself never sees the request (its state stays as it was), except for
/// [`Fault::DropConnection`] of a request already read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status and a small HTML error page.
    Status(u16),
    /// Answer with this HTTP status and this JSON body (a proxy's or the
    /// panel's own JSON error, or a body that looks like a success).
    Json(u16, &'static str),
    /// Answer with this HTTP status and an empty body.
    Empty(u16),
    /// Answer with this redirect status (301, 302, 307, 308) to this `Location`.
    Redirect(u16, String),
    /// Answer 200 with an HTML page instead of JSON (e.g. a login page or proxy error page).
    Html,
    /// Answer 200 with truncated / invalid JSON.
    BrokenJson,
    /// Accept the TCP connection and close it without answering.
    DropConnection,
}

impl Fault {
    /// What the fault is, for logs: its kind and status, never a body (a test
    /// body may look like a secret).
    fn label(&self) -> String {
        match self {
            Fault::Status(code) => format!("status {code}"),
            Fault::Json(code, _) => format!("json {code}"),
            Fault::Empty(code) => format!("empty {code}"),
            Fault::Redirect(code, _) => format!("redirect {code}"),
            Fault::Html => "html".to_owned(),
            Fault::BrokenJson => "broken json".to_owned(),
            Fault::DropConnection => "dropped connection".to_owned(),
        }
    }
}

/// The fault knobs of one simulator; clones share the same knobs.
#[derive(Clone, Default)]
pub struct Faults {
    knobs: Arc<Mutex<Knobs>>,
}

/// What is injected right now.
#[derive(Clone, Debug, Default)]
struct Knobs {
    /// Replaces the panel's answer while set.
    fault: Option<Fault>,
    /// Whether the fault answers one request only (then clears).
    once: bool,
    /// Holds back every answer (and every dropped connection) this long.
    delay: Duration,
}

impl Faults {
    /// Sets the fault applied to every request from now on, replacing any previous fault.
    pub fn set(&self, fault: Fault) {
        self.update(|knobs| {
            knobs.fault = Some(fault);
            knobs.once = false;
        });
    }

    /// Sets a fault that answers the next request only (the panel answers
    /// the ones after it): a panel's error reply to one call, without
    /// touching what the caller does next.
    pub fn set_once(&self, fault: Fault) {
        self.update(|knobs| {
            knobs.fault = Some(fault);
            knobs.once = true;
        });
    }

    /// Delays every answer by `delay`, whether it comes from a fault or from the panel.
    pub fn set_delay(&self, delay: Duration) {
        self.update(|knobs| knobs.delay = delay);
    }

    /// Removes the fault and the delay.
    pub fn clear(&self) {
        self.update(|knobs| *knobs = Knobs::default());
    }

    fn update(&self, change: impl FnOnce(&mut Knobs)) {
        change(&mut self.knobs.lock().unwrap_or_else(PoisonError::into_inner));
    }

    fn current(&self) -> Knobs {
        self.knobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// What applies to the request arriving now, using up a one-request fault.
    fn take(&self) -> Knobs {
        let mut knobs = self.knobs.lock().unwrap_or_else(PoisonError::into_inner);
        let now = knobs.clone();
        if knobs.once {
            knobs.fault = None;
            knobs.once = false;
        }
        now
    }

    fn drops_connections(&self) -> bool {
        self.current().fault == Some(Fault::DropConnection)
    }
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let knobs = self.current();
        f.debug_struct("Faults")
            .field("fault", &knobs.fault)
            .field("delay", &knobs.delay)
            .finish()
    }
}

/// Counts the HTTP requests a simulator received, and how many it was
/// answering at once at most; clones share the counts.
#[derive(Clone, Debug, Default)]
pub(crate) struct RequestCounter(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    received: AtomicU64,
    in_flight: AtomicU64,
    peak: AtomicU64,
}

impl RequestCounter {
    /// Number of requests so far.
    pub(crate) fn get(&self) -> u64 {
        self.0.received.load(Ordering::Relaxed)
    }

    /// Most requests answered at once so far (delays included).
    pub(crate) fn peak(&self) -> u64 {
        self.0.peak.load(Ordering::Relaxed)
    }

    fn increment(&self) {
        self.0.received.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request as being answered until the guard drops.
    fn answering(&self) -> Answering {
        let now = self.0.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.0.peak.fetch_max(now, Ordering::SeqCst);
        Answering(self.0.clone())
    }
}

/// A request being answered (see [`RequestCounter::answering`]).
struct Answering(Arc<Counts>);

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves `router` on `listener` in a spawned task, behind the fault machinery.
///
/// Every request counts in `requests`, dropped connections included. The task
/// runs until the tokio runtime stops.
pub(crate) fn serve(
    listener: TcpListener,
    router: Router,
    faults: Faults,
    requests: RequestCounter,
) {
    let app = with_front_door(router, &faults, &requests);
    let listener = FaultListener {
        incoming: Incoming::Direct(listener),
        faults,
        requests,
    };
    spawn_server(listener, app);
}

/// Like [`serve`], but a connection whose first request is `CONNECT` is
/// answered outside hyper: the request goes through the same router (front door
/// included, so it is counted, logged and subject to faults), and the answer is
/// written with its body and `Content-Length`, then the connection is closed.
///
/// Hyper cannot do this itself: its server sends no body with a 2xx answer to
/// CONNECT (it expects a tunnel). A CONNECT arriving later on a kept-alive
/// connection still reaches hyper, with that limitation.
pub(crate) fn serve_with_raw_connect(
    listener: TcpListener,
    router: Router,
    faults: Faults,
    requests: RequestCounter,
) -> io::Result<()> {
    let app = with_front_door(router, &faults, &requests);
    let local_addr = listener.local_addr()?;
    let (handed_over, connections) = mpsc::unbounded_channel();
    tokio::spawn(connect::sort_connections(
        listener,
        app.clone(),
        faults.clone(),
        requests.clone(),
        handed_over,
    ));
    let listener = FaultListener {
        incoming: Incoming::Sorted {
            connections,
            local_addr,
        },
        faults,
        requests,
    };
    spawn_server(listener, app);
    Ok(())
}

fn spawn_server(listener: FaultListener, app: Router) {
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "simulator stopped");
        }
    });
}

//! Fault injection and the HTTP front door shared by every simulator.
//!
//! A simulator builds its axum [`Router`] and hands it to `serve`, which adds
//! the two pieces every panel shares:
//!
//! - a middleware (`front_door`) that counts requests, logs them, answers with
//!   the injected [`Fault`] instead of the panel when one is set, and holds every
//!   answer back by the injected delay;
//! - a listener wrapper (`FaultListener`) that, while
//!   [`Fault::DropConnection`] is set, closes connections without answering:
//!   new ones right after `accept`, open keep-alive ones at their next read
//!   (a pooled client connection would otherwise slip past the fault).
//!
//! A simulator whose panel answers `CONNECT /path` with a body (OpenAdmin's
//! Python-era autologin) is served by `serve_with_raw_connect` instead: hyper
//! strips the body of a 2xx answer to CONNECT, so `connect` answers
//! connections that open with CONNECT itself, through the same router.

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

mod connect;

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

/// Counts the HTTP requests a simulator received; clones share the count.
#[derive(Clone, Debug, Default)]
pub(crate) struct RequestCounter(Arc<AtomicU64>);

impl RequestCounter {
    /// Number of requests so far.
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
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

/// The router behind the [`front_door`] middleware.
fn with_front_door(router: Router, faults: &Faults, requests: &RequestCounter) -> Router {
    let front = FrontDoor {
        faults: faults.clone(),
        requests: requests.clone(),
    };
    // `layer` (not `route_layer`) so that faults and counting cover unknown paths too.
    router.layer(middleware::from_fn_with_state(front, front_door))
}

fn spawn_server(listener: FaultListener, app: Router) {
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "simulator stopped");
        }
    });
}

// === front door middleware ===

/// State of the [`front_door`] middleware.
#[derive(Clone)]
struct FrontDoor {
    faults: Faults,
    requests: RequestCounter,
}

/// Counts and logs each request, applies the injected fault and delay.
///
/// The delay is applied after the panel has handled the request: like a slow
/// panel, the work is done even when the client gives up waiting.
async fn front_door(State(front): State<FrontDoor>, request: Request, next: Next) -> Response {
    front.requests.increment();
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let knobs = front.faults.take();
    let mut response = match knobs.fault.clone().and_then(fault_response) {
        Some(injected) => injected,
        None => next.run(request).await,
    };
    if method == Method::CONNECT {
        response = with_unknown_size(response).await;
    }
    if !knobs.delay.is_zero() {
        tokio::time::sleep(knobs.delay).await;
    }
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        fault = knobs.fault.as_ref().map(Fault::label),
        "request"
    );
    response
}

/// The same answer with a body of unknown size.
///
/// Axum's router drops the body of a 2xx answer to CONNECT whose size it knows
/// (RFC 9110: a tunnel follows), at every route level; one of unknown size is
/// left alone, so the raw CONNECT path (`connect`) can write it. A simulator's
/// CONNECT handler passes its answer through this, and the front door does it
/// for injected faults. Hyper would still drop the body, which is why that path
/// bypasses hyper.
pub(crate) async fn with_unknown_size(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => Body::from_stream(futures::stream::iter([Ok::<_, Infallible>(bytes)])),
        Err(error) => {
            tracing::warn!(%error, "answer to CONNECT unreadable, sent empty");
            Body::empty()
        }
    };
    Response::from_parts(parts, body)
}

/// The answer a fault gives instead of the panel; `None` for
/// [`Fault::DropConnection`], which the listener applies (a request read before
/// it was set is answered normally).
fn fault_response(fault: Fault) -> Option<Response> {
    let response = match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let title = format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            );
            let page = format!(
                "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n\
                 <center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n\
                 </body>\r\n</html>\r\n"
            );
            (status, Html(page)).into_response()
        }
        Fault::Json(code, body) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Fault::Empty(code) => StatusCode::from_u16(code)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        Fault::Redirect(code, location) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::FOUND),
            [(header::LOCATION, location)],
        )
            .into_response(),
        Fault::Html => Html(LOGIN_PAGE).into_response(),
        Fault::BrokenJson => (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"success": true, "message": "User created succ"#,
        )
            .into_response(),
        Fault::DropConnection => return None,
    };
    Some(response)
}

/// What a panel behind an expired session or a captive proxy sends back.
const LOGIN_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
<title>Login</title></head>\n<body>\n<form method=\"post\" action=\"/login/\">\n\
<input name=\"username\"><input name=\"password\" type=\"password\">\n\
<button type=\"submit\">Sign in</button>\n</form>\n</body>\n</html>\n";

// === listener wrapper ===

/// A [`TcpListener`] that closes connections unanswered while
/// [`Fault::DropConnection`] is set.
struct FaultListener {
    incoming: Incoming,
    faults: Faults,
    requests: RequestCounter,
}

/// Where a [`FaultListener`] takes its connections from.
enum Incoming {
    /// Straight from the socket.
    Direct(TcpListener),
    /// From `connect::sort_connections`, which keeps the CONNECT ones.
    Sorted {
        connections: mpsc::UnboundedReceiver<(TcpStream, SocketAddr)>,
        local_addr: SocketAddr,
    },
}

impl Listener for FaultListener {
    type Io = FaultIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match &mut self.incoming {
                Incoming::Direct(listener) => Listener::accept(listener).await,
                Incoming::Sorted { connections, .. } => match connections.recv().await {
                    Some(connection) => connection,
                    // The sorting task never stops while the runtime runs.
                    None => std::future::pending().await,
                },
            };
            if !self.faults.drops_connections() {
                let faults = self.faults.clone();
                return (FaultIo { stream, faults }, addr);
            }
            drop_connection(stream, addr, &self.faults, &self.requests);
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        match &self.incoming {
            Incoming::Direct(listener) => listener.local_addr(),
            Incoming::Sorted { local_addr, .. } => Ok(*local_addr),
        }
    }
}

/// Closes a new connection unanswered (after the injected delay); it counts as
/// one request.
fn drop_connection(
    stream: TcpStream,
    addr: SocketAddr,
    faults: &Faults,
    requests: &RequestCounter,
) {
    requests.increment();
    let delay = faults.current().delay;
    tracing::info!(%addr, "fault: connection dropped");
    if delay.is_zero() {
        drop(stream);
    } else {
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            drop(stream);
        });
    }
}

/// An accepted connection that reports end of stream as soon as
/// [`Fault::DropConnection`] is set, so hyper closes it without answering.
struct FaultIo {
    stream: TcpStream,
    faults: Faults,
}

impl AsyncRead for FaultIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.faults.drops_connections() {
            // Nothing read: end of stream.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

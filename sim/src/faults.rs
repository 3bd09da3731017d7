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

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// One injected failure, applied to every request while set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status and a small HTML error page.
    Status(u16),
    /// Answer 200 with an HTML page instead of JSON (e.g. a login page or proxy error page).
    Html,
    /// Answer 200 with truncated / invalid JSON.
    BrokenJson,
    /// Accept the TCP connection and close it without answering.
    DropConnection,
}

/// The fault knobs of one simulator; clones share the same knobs.
#[derive(Clone, Default)]
pub struct Faults {
    knobs: Arc<Mutex<Knobs>>,
}

/// What is injected right now.
#[derive(Clone, Copy, Debug, Default)]
struct Knobs {
    /// Replaces the panel's answer while set.
    fault: Option<Fault>,
    /// Holds back every answer (and every dropped connection) this long.
    delay: Duration,
}

impl Faults {
    /// Sets the fault applied to every request from now on, replacing any previous fault.
    pub fn set(&self, fault: Fault) {
        self.update(|knobs| knobs.fault = Some(fault));
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
        *self.knobs.lock().unwrap_or_else(PoisonError::into_inner)
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
    let front = FrontDoor {
        faults: faults.clone(),
        requests: requests.clone(),
    };
    // `layer` (not `route_layer`) so that faults and counting cover unknown paths too.
    let app = router.layer(middleware::from_fn_with_state(front, front_door));
    let listener = FaultListener {
        inner: listener,
        faults,
        requests,
    };
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
    let knobs = front.faults.current();
    let response = match knobs.fault.and_then(fault_response) {
        Some(injected) => injected,
        None => next.run(request).await,
    };
    if !knobs.delay.is_zero() {
        tokio::time::sleep(knobs.delay).await;
    }
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        fault = ?knobs.fault,
        "request"
    );
    response
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
    inner: TcpListener,
    faults: Faults,
    requests: RequestCounter,
}

impl Listener for FaultListener {
    type Io = FaultIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = Listener::accept(&mut self.inner).await;
            if !self.faults.drops_connections() {
                let faults = self.faults.clone();
                return (FaultIo { stream, faults }, addr);
            }
            self.requests.increment();
            let delay = self.faults.current().delay;
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
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
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

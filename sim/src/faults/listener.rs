//! The listener wrapper: while [`super::Fault::DropConnection`] is set, new
//! connections are closed right after `accept` and open keep-alive ones at
//! their next read (a pooled client connection would otherwise slip past the
//! fault).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::{Faults, RequestCounter};

/// A [`TcpListener`] that closes connections unanswered while
/// [`super::Fault::DropConnection`] is set.
pub(super) struct FaultListener {
    pub(super) incoming: Incoming,
    pub(super) faults: Faults,
    pub(super) requests: RequestCounter,
}

/// Where a [`FaultListener`] takes its connections from.
pub(super) enum Incoming {
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
pub(super) fn drop_connection(
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
/// [`super::Fault::DropConnection`] is set, so hyper closes it without answering.
pub(super) struct FaultIo {
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

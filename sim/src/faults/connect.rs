//! Connections that open with `CONNECT`: read, routed and answered outside hyper.
//!
//! Hyper's server treats a 2xx answer to CONNECT as the start of a tunnel and
//! sends it without a body, so a panel that answers `CONNECT /path` with JSON
//! (OpenAdmin's Python-era autologin) cannot be simulated through it. Every new
//! connection is peeked at: one that starts with `CONNECT ` is handled here
//! (head parsed with httparse, the request run through the simulator's router
//! and front door, the answer written with `Content-Length`, the connection
//! closed); any other is handed to axum untouched.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, header};
use axum::response::Response;
use axum::serve::Listener;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, timeout, timeout_at};
use tower_service::Service;

use super::listener::drop_connection;
use super::{Faults, RequestCounter};

/// What a CONNECT request starts with.
const CONNECT_PREFIX: &[u8] = b"CONNECT ";
/// How long a new connection may stay silent before it is handed to axum
/// (which then applies its own rules to it).
const FIRST_BYTES_WAIT: Duration = Duration::from_secs(10);
/// How long reading the rest of a CONNECT request may take.
const READ_WAIT: Duration = Duration::from_secs(30);
/// Largest request head read (hyper's default limit is about as large).
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Largest request body read.
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Most header lines parsed.
const MAX_HEADERS: usize = 64;

/// Accepts connections forever: drops them while [`super::Fault::DropConnection`]
/// is set, answers the CONNECT ones, hands every other one to axum through
/// `handed_over`.
pub(super) async fn sort_connections(
    mut listener: TcpListener,
    app: Router,
    faults: Faults,
    requests: RequestCounter,
    handed_over: mpsc::UnboundedSender<(TcpStream, SocketAddr)>,
) {
    loop {
        let (stream, addr) = Listener::accept(&mut listener).await;
        if faults.drops_connections() {
            drop_connection(stream, addr, &faults, &requests);
            continue;
        }
        let app = app.clone();
        let handed_over = handed_over.clone();
        // One task per connection: waiting for its first bytes must not hold up `accept`.
        tokio::spawn(async move {
            if opens_with_connect(&stream).await {
                if let Err(error) = answer(stream, app).await {
                    tracing::debug!(%addr, %error, "CONNECT connection failed");
                }
            } else if handed_over.send((stream, addr)).is_err() {
                tracing::debug!(%addr, "server gone, connection closed");
            }
        });
    }
}

/// Whether the first bytes on `stream` are `CONNECT `, without consuming them.
async fn opens_with_connect(stream: &TcpStream) -> bool {
    let deadline = Instant::now() + FIRST_BYTES_WAIT;
    let mut first = [0; CONNECT_PREFIX.len()];
    loop {
        let peeked = match timeout_at(deadline, stream.peek(&mut first)).await {
            Ok(Ok(peeked)) => peeked,
            // Silent for too long, or broken: axum deals with it.
            _ => return false,
        };
        if peeked == 0 || !CONNECT_PREFIX.starts_with(&first[..peeked]) {
            return false;
        }
        if peeked == CONNECT_PREFIX.len() {
            return true;
        }
        // A prefix of "CONNECT " so far: wait for the rest (peek would return at once).
        if Instant::now() >= deadline {
            return false;
        }
        sleep(Duration::from_millis(5)).await;
    }
}

/// Reads one request from `stream`, runs it through `app` and writes the answer.
async fn answer(mut stream: TcpStream, mut app: Router) -> io::Result<()> {
    let request = timeout(READ_WAIT, read_request(&mut stream))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "request not received in time"))??;
    poll_fn(|cx| Service::<Request>::poll_ready(&mut app, cx))
        .await
        .map_err(io::Error::other)?;
    let response = match app.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    write_response(&mut stream, response).await
}

/// Reads and parses one HTTP/1.1 request (head and `Content-Length` body).
async fn read_request(stream: &mut TcpStream) -> io::Result<Request> {
    let mut received = Vec::with_capacity(1024);
    let mut chunk = [0; 4096];
    let head_len = loop {
        if let Some(end) = received.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        if received.len() > MAX_HEAD_BYTES {
            return Err(invalid("request head too large"));
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(invalid(
                "connection closed before the end of the request head",
            ));
        }
        received.extend_from_slice(&chunk[..read]);
    };

    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Request::new(&mut headers);
    if !head
        .parse(&received[..head_len])
        .map_err(|error| invalid(&error.to_string()))?
        .is_complete()
    {
        return Err(invalid("incomplete request head"));
    }
    let mut builder = Request::builder()
        .method(head.method.unwrap_or("CONNECT"))
        .uri(head.path.unwrap_or("/"));
    let mut content_length = 0;
    for field in head.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(io::Error::other)?;
        if name == header::CONTENT_LENGTH {
            content_length = std::str::from_utf8(field.value)
                .ok()
                .and_then(|value| value.trim().parse::<usize>().ok())
                .ok_or_else(|| invalid("bad Content-Length"))?;
        }
        builder = builder.header(name, field.value);
    }
    if content_length > MAX_BODY_BYTES {
        return Err(invalid("request body too large"));
    }

    let mut body = received.split_off(head_len);
    while body.len() < content_length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(invalid(
                "connection closed before the end of the request body",
            ));
        }
        body.extend_from_slice(&chunk[..read]);
    }
    body.truncate(content_length);
    builder.body(Body::from(body)).map_err(io::Error::other)
}

/// Writes `response` as HTTP/1.1 with a `Content-Length` body and closes the connection.
async fn write_response(stream: &mut TcpStream, response: Response) -> io::Result<()> {
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(io::Error::other)?;
    let status = parts.status;
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in &parts.headers {
        let framing = [
            header::CONTENT_LENGTH,
            header::TRANSFER_ENCODING,
            header::CONNECTION,
        ];
        if framing.contains(name) {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
    head.extend_from_slice(
        format!(
            "date: {date}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    stream.write_all(&head).await?;
    stream.write_all(&body).await?;
    stream.shutdown().await
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

//! What the simulators' router-level tests share: one raw HTTP/1.1 exchange on
//! a fresh connection, and the check that a connection closes unanswered.
//!
//! The tests speak raw HTTP/1.1 rather than through a client library so that
//! they see exactly what a panel sends: status line, headers and body.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One HTTP answer.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The status code.
    pub(crate) status: u16,
    /// The status line and the headers.
    pub(crate) head: String,
    /// The body as text.
    pub(crate) body: String,
}

impl Answer {
    /// The body as JSON; panics with the whole answer when it is not JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("{error}: {self:?}"))
    }

    /// The body of a 200 answer as JSON; panics on any other status.
    pub(crate) fn ok_json(&self) -> Value {
        assert_eq!(self.status, 200, "{self:?}");
        self.json()
    }
}

/// A raw request: `head` holds the header lines, each ending in `\r\n`;
/// `Content-Length` is added.
pub(crate) fn raw_request(method: &str, path: &str, head: &str, body: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\n{head}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Sends one request on a fresh connection and reads the answer; the
/// connection is closed after it (`Connection: close` is added to `head`).
pub(crate) async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    head: &str,
    body: &str,
) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!("{head}Connection: close\r\n");
    let raw = raw_request(method, path, &head, body);
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let raw = String::from_utf8(bytes).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    Answer {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// Writes `raw` on `stream` and asserts that the connection closes without
/// an answer.
pub(crate) async fn assert_unanswered(stream: &mut TcpStream, raw: &[u8]) {
    // Writing may already fail on a closed connection; either way no answer comes.
    let _ = stream.write_all(raw).await;
    let mut rest = Vec::new();
    let closing = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest));
    let outcome = closing.await.expect("connection left open");
    assert!(outcome.is_err() || rest.is_empty(), "answered: {rest:?}");
}

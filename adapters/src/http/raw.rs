//! One HTTP/1.1 request written by hand, for the one thing HTTP stacks
//! rewrite: `CONNECT` with a path, which Python-era OpenAdmin uses for
//! autologin (hyper sends CONNECT in authority form and drops the body of its
//! 2xx reply). The reply is read whole and parsed here; classifying it is
//! [`super::HttpClient`]'s job, as for every reply.

use reqwest::{StatusCode, Url};
use rustls_pki_types::ServerName;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpStream,
};
use tokio_rustls::TlsConnector;

use super::{
    Reply, USER_AGENT,
    reply::{MAX_REPLY_BYTES, parse_retry_after, too_large},
};
use crate::AdapterError;
use crate::Result;

/// Most headers a raw reply may carry.
const MAX_RAW_HEADERS: usize = 64;

/// The request head of `method` to `url` (origin form, no body, closing the
/// connection), with `headers`.
pub(super) fn head(method: &str, url: &Url, headers: &[(&str, &str)]) -> Result<String> {
    let host = url.host_str().unwrap_or_default();
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\nContent-Length: 0\r\nConnection: close\r\n"
    );
    for (name, value) in headers {
        if value.contains(['\r', '\n']) || name.contains(['\r', '\n', ':']) {
            return Err(AdapterError::Misconfigured(format!(
                "header `{name}` cannot be sent"
            )));
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    Ok(head)
}

/// Connects to `url`'s host (TLS with `tls` for https), writes `head` and
/// reads the whole reply. Bounded by the caller's timeouts.
pub(super) async fn exchange(
    url: &Url,
    tls: &std::sync::Arc<rustls::ClientConfig>,
    connect_timeout: std::time::Duration,
    head: &[u8],
) -> Result<Vec<u8>> {
    // IPv6 hosts come bracketed ("[::1]"): brackets belong in Host, not in the address.
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let tcp = tokio::time::timeout(connect_timeout, TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| AdapterError::Unreachable {
            message: format!("cannot connect: no answer within {connect_timeout:?}"),
        })?
        .map_err(|err| AdapterError::Unreachable {
            message: format!("cannot connect: {err}"),
        })?;
    if url.scheme() != "https" {
        return write_and_read(tcp, head).await;
    }
    let name = ServerName::try_from(host.clone())
        .map_err(|_| AdapterError::Misconfigured(format!("`{host}` is not a TLS server name")))?;
    let stream = TlsConnector::from(tls.clone())
        .connect(name, tcp)
        .await
        .map_err(|err| {
            super::untrusted_certificate(&err).unwrap_or_else(|| AdapterError::Unavailable {
                message: format!("TLS handshake failed: {err}"),
            })
        })?;
    write_and_read(stream, head).await
}

/// Writes `head` and reads until the server closes, at most MAX_REPLY_BYTES.
async fn write_and_read<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    head: &[u8],
) -> Result<Vec<u8>> {
    let lost = |err: std::io::Error| AdapterError::Unavailable {
        message: format!("connection lost: {err}"),
    };
    stream.write_all(head).await.map_err(lost)?;
    stream.flush().await.map_err(lost)?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let read = stream.read(&mut chunk).await.map_err(lost)?;
        if read == 0 {
            return Ok(raw);
        }
        if raw.len() + read > MAX_REPLY_BYTES {
            return Err(too_large(&raw));
        }
        raw.extend_from_slice(&chunk[..read]);
    }
}

/// Parses a whole HTTP/1.1 reply to a request for `url`: status line,
/// headers, and a body delimited by Content-Length, chunked encoding, or the
/// end of the connection.
pub(super) fn parse(raw: &[u8], url: &Url) -> Result<Reply> {
    if raw.is_empty() {
        return Err(AdapterError::Unavailable {
            message: "connection closed without a reply".into(),
        });
    }
    let text = String::from_utf8_lossy(raw);
    let unreadable = |message: &str| AdapterError::protocol(message, &text);
    let mut headers = [httparse::EMPTY_HEADER; MAX_RAW_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(raw) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Err(unreadable("reply ended inside its headers")),
        Err(_) => return Err(unreadable("not an HTTP/1.1 reply")),
    };
    let status = response
        .code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| unreadable("reply without a valid status"))?;
    let header = |wanted: &str| {
        response
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(wanted))
            .and_then(|header| std::str::from_utf8(header.value).ok())
    };
    let rest = &raw[head_len..];
    let body = if header("transfer-encoding")
        .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"))
    {
        dechunk(rest).ok_or_else(|| unreadable("broken chunked body"))?
    } else if let Some(length) = header("content-length") {
        let length: usize = length
            .trim()
            .parse()
            .map_err(|_| unreadable("bad Content-Length"))?;
        rest.get(..length)
            .ok_or_else(|| AdapterError::Unavailable {
                message: "connection lost while reading the reply".into(),
            })?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Reply {
        status,
        body,
        retry_after: header("retry-after").and_then(parse_retry_after),
        location: header("location").and_then(|location| url.join(location).ok()),
    })
}

/// Decodes a chunked body; None when it is malformed or cut short.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|pair| pair == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn url() -> Url {
        Url::parse("http://127.0.0.1:9/api/users/bob").unwrap()
    }

    #[test]
    fn replies_by_length_chunks_or_close() {
        let by_length = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra",
            &url(),
        )
        .unwrap();
        assert_eq!(
            (by_length.status.as_u16(), by_length.body.as_slice()),
            (200, &b"{}"[..])
        );
        let chunked = parse(
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n",
            &url(),
        )
        .unwrap();
        assert_eq!(chunked.body, b"{\"a\":1}");
        let to_close = parse(
            b"HTTP/1.1 404 Not Found\r\nRetry-After: 7\r\n\r\nnope",
            &url(),
        )
        .unwrap();
        assert_eq!(
            (to_close.body.as_slice(), to_close.retry_after),
            (&b"nope"[..], Some(Duration::from_secs(7)))
        );
        let moved = parse(
            b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /elsewhere\r\n\r\n",
            &url(),
        )
        .unwrap();
        assert_eq!(
            moved.location.map(String::from).as_deref(),
            Some("http://127.0.0.1:9/elsewhere")
        );
    }

    #[test]
    fn broken_replies_are_errors_not_panics() {
        assert!(matches!(
            parse(b"", &url()),
            Err(AdapterError::Unavailable { .. })
        ));
        assert!(matches!(
            parse(b"garbage\r\n\r\n", &url()),
            Err(AdapterError::Protocol { .. })
        ));
        assert!(matches!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Le", &url()),
            Err(AdapterError::Protocol { .. })
        ));
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{}", &url()).is_err());
        assert!(
            parse(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                &url()
            )
            .is_err()
        );
        assert!(
            parse(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nab",
                &url()
            )
            .is_err()
        );
    }
}

//! Shared HTTP plumbing for every adapter: one client per TLS setting, timeouts,
//! bounded reply bodies, and the transport-level error classification
//! (timeout, refused, dropped, 5xx, 429). Panel code only builds requests and
//! reads replies.
//!
//! Besides reqwest, [`HttpClient::send_raw`] writes one HTTP/1.1 request by
//! hand, for the one thing HTTP stacks rewrite: `CONNECT` with a path, which
//! Python-era OpenAdmin uses for autologin (hyper sends CONNECT in
//! authority form and drops the body of its 2xx reply).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use reqwest::{RequestBuilder, StatusCode, Url, header::RETRY_AFTER};
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use serde::de::DeserializeOwned;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpStream,
};
use tokio_rustls::TlsConnector;
use tracing::{Span, debug};

pub use crate::tls::TlsOptions;
use crate::{
    AdapterError,
    metrics::{PanelMetrics, ServerLabels, failure_outcome, status_outcome},
    tls,
};

/// Replies larger than this are refused as a protocol error.
const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;
/// How much of an unreadable reply an error quotes.
const EXCERPT_CHARS: usize = 200;
/// Most headers a raw reply may carry.
const MAX_RAW_HEADERS: usize = 64;

/// Timeouts for calls to panels.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// To open a connection.
    pub connect: Duration,
    /// For a whole request, reply body included.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(30),
        }
    }
}

/// The process-wide HTTP transport: a shared client for panels with default TLS,
/// the timeouts every panel call gets, and the metrics every call records.
#[derive(Clone, Debug)]
pub struct Transport {
    shared: reqwest::Client,
    shared_tls: Arc<ClientConfig>,
    timeouts: Timeouts,
    metrics: PanelMetrics,
}

impl Transport {
    /// Builds the shared client.
    pub fn new(timeouts: Timeouts, metrics: PanelMetrics) -> Result<Self, AdapterError> {
        let shared_tls = tls::client_config(&TlsOptions::default())?;
        Ok(Transport {
            shared: reqwest_client(timeouts, &shared_tls)?,
            shared_tls,
            timeouts,
            metrics,
        })
    }

    /// Checks that a panel at `base_url` with these TLS settings can be
    /// reached by a client (the URL's shape, the CA's PEM), without calling it.
    pub fn check(base_url: &str, options: &TlsOptions) -> Result<(), AdapterError> {
        parse_base_url(base_url)?;
        // The default settings are the shared client's, built at start.
        if *options != TlsOptions::default() {
            tls::client_config(options)?;
        }
        Ok(())
    }

    /// The client for one panel server: the shared one, or a dedicated one
    /// when the server has its own TLS settings.
    pub fn client(
        &self,
        server: ServerLabels,
        base_url: &str,
        options: &TlsOptions,
    ) -> Result<HttpClient, AdapterError> {
        let base_url = parse_base_url(base_url)?;
        let (client, tls) = if *options == TlsOptions::default() {
            (self.shared.clone(), self.shared_tls.clone())
        } else {
            let tls = tls::client_config(options)?;
            (reqwest_client(self.timeouts, &tls)?, tls)
        };
        Ok(HttpClient {
            client,
            tls,
            base_url,
            timeouts: self.timeouts,
            server,
            metrics: self.metrics.clone(),
        })
    }
}

fn reqwest_client(timeouts: Timeouts, tls: &ClientConfig) -> Result<reqwest::Client, AdapterError> {
    reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .user_agent(USER_AGENT)
        .tls_backend_preconfigured(tls.clone())
        .build()
        .map_err(|err| AdapterError::Misconfigured(format!("cannot build HTTP client: {err}")))
}

const USER_AGENT: &str = concat!("panelgate/", env!("CARGO_PKG_VERSION"));

/// Longest base URL accepted.
const MAX_BASE_URL: usize = 2048;

/// A panel's base URL: http or https with a host, and no user info, query or
/// fragment (credentials belong in the sealed credentials, never in a URL that
/// is stored and shown in clear).
fn parse_base_url(base_url: &str) -> Result<Url, AdapterError> {
    let refuse = |why: &str| AdapterError::Misconfigured(format!("base_url {why}"));
    if base_url.len() > MAX_BASE_URL {
        return Err(refuse(&format!("is longer than {MAX_BASE_URL} characters")));
    }
    let mut url =
        Url::parse(base_url.trim()).map_err(|err| refuse(&format!("is not a URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(refuse("must be an http or https URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "must not carry credentials: set them as the server's credentials",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("must not have a query or fragment"));
    }
    // Joining relative paths keeps a base path only when it ends with '/'.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// The HTTP side of one panel: base URL, client and TLS settings, and the
/// server its calls are counted for.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: reqwest::Client,
    tls: Arc<ClientConfig>,
    base_url: Url,
    timeouts: Timeouts,
    server: ServerLabels,
    metrics: PanelMetrics,
}

impl HttpClient {
    /// Starts a request to `path`, relative to the base URL (no leading '/').
    pub fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    fn url(&self, path: &str) -> Url {
        self.base_url
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| self.base_url.clone())
    }

    /// The base URL, for building links the panel does not give.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Sends a request and reads the whole (bounded) reply. Transport failures,
    /// 429 and 5xx become errors here, except a 5xx whose body is a JSON object:
    /// that is the panel's own answer, for the panel's adapter to read.
    pub async fn send(&self, request: RequestBuilder) -> Result<Reply, AdapterError> {
        let started = Instant::now();
        let received = self.receive(request).await;
        self.observe(started, &received);
        received?.checked()
    }

    /// Sends a request and reads the reply as it came, 5xx included.
    async fn receive(&self, request: RequestBuilder) -> Result<Reply, AdapterError> {
        let mut response = request
            .send()
            .await
            .map_err(|err| self.transport_error(&err))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_retry_after);

        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| self.transport_error(&err))?
        {
            if body.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(too_large(&body));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            body,
            retry_after,
        })
    }

    /// Counts a call in the metrics and notes its status on the current
    /// call's span.
    fn observe(&self, started: Instant, received: &Result<Reply, AdapterError>) {
        let elapsed = started.elapsed();
        let latency_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let outcome = match received {
            Ok(reply) => {
                Span::current().record("upstream_status", reply.status.as_u16());
                status_outcome(reply.status.as_u16())
            }
            Err(err) => failure_outcome(err),
        };
        Span::current().record("upstream_ms", latency_ms);
        debug!(outcome, latency_ms, "panel replied");
        self.metrics.upstream(&self.server, outcome, elapsed);
    }

    /// Sends `method path HTTP/1.1` exactly as given (origin form, no body) on a
    /// fresh connection, with `headers`, and reads the reply the way
    /// [`HttpClient::send`] does.
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Reply, AdapterError> {
        let url = self.url(path);
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        // IPv6 hosts come bracketed ("[::1]"): brackets belong in Host, not in the address.
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
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

        let started = Instant::now();
        let exchange = async {
            let tcp = tokio::time::timeout(
                self.timeouts.connect,
                TcpStream::connect((host.as_str(), port)),
            )
            .await
            .map_err(|_| AdapterError::Unavailable {
                message: format!(
                    "cannot connect: no answer within {:?}",
                    self.timeouts.connect
                ),
            })?
            .map_err(|err| AdapterError::Unavailable {
                message: format!("cannot connect: {err}"),
            })?;
            if url.scheme() == "https" {
                let name = ServerName::try_from(host.clone()).map_err(|_| {
                    AdapterError::Misconfigured(format!("`{host}` is not a TLS server name"))
                })?;
                let tls = TlsConnector::from(self.tls.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|err| {
                        untrusted_certificate(&err).unwrap_or_else(|| AdapterError::Unavailable {
                            message: format!("TLS handshake failed: {err}"),
                        })
                    })?;
                exchange_raw(tls, head.as_bytes()).await
            } else {
                exchange_raw(tcp, head.as_bytes()).await
            }
        };
        let received = match tokio::time::timeout(self.timeouts.request, exchange).await {
            Ok(raw) => raw.and_then(|raw| parse_raw_reply(&raw)),
            Err(_) => Err(AdapterError::Timeout(self.timeouts.request)),
        };
        self.observe(started, &received);
        received?.checked()
    }

    fn transport_error(&self, err: &reqwest::Error) -> AdapterError {
        if err.is_timeout() {
            return AdapterError::Timeout(self.timeouts.request);
        }
        if let Some(untrusted) = untrusted_certificate(err) {
            return untrusted;
        }
        let what = if err.is_connect() {
            "cannot connect"
        } else if err.is_body() || err.is_decode() {
            "connection lost while reading the reply"
        } else {
            "request failed"
        };
        AdapterError::Unavailable {
            message: format!("{what}: {}", root_cause(err)),
        }
    }
}

/// Writes `head` and reads until the server closes, at most MAX_REPLY_BYTES.
async fn exchange_raw<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    head: &[u8],
) -> Result<Vec<u8>, AdapterError> {
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

/// Parses a whole HTTP/1.1 reply: status line, headers, and a body delimited by
/// Content-Length, chunked encoding, or the end of the connection.
fn parse_raw_reply(raw: &[u8]) -> Result<Reply, AdapterError> {
    if raw.is_empty() {
        return Err(AdapterError::Unavailable {
            message: "connection closed without a reply".into(),
        });
    }
    let unreadable = |message: &str| AdapterError::Protocol {
        message: message.to_owned(),
        excerpt: excerpt(raw),
    };
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
    let retry_after = header("retry-after").and_then(parse_retry_after);
    Ok(Reply {
        status,
        body,
        retry_after,
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

/// A `Retry-After` in seconds (the HTTP-date form is not used by panels).
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn too_large(body: &[u8]) -> AdapterError {
    AdapterError::Protocol {
        message: format!("reply larger than {MAX_REPLY_BYTES} bytes"),
        excerpt: excerpt(body),
    }
}

/// A refused panel certificate, found among an error's causes: a setting to
/// fix, not a failure a retry would cure.
fn untrusted_certificate(err: &(dyn std::error::Error + 'static)) -> Option<AdapterError> {
    let Some(rustls::Error::InvalidCertificate(problem)) = rustls_cause(err) else {
        return None;
    };
    Some(AdapterError::FailedPrecondition {
        reason: "UPSTREAM_TLS_UNTRUSTED",
        message: format!(
            "the panel's TLS certificate is not trusted ({problem:?}): set the server's \
             tls.ca_pem to the panel's CA, or tls.insecure_skip_verify"
        ),
        upstream: None,
    })
}

/// The rustls error among an error's causes. `io::Error::source` skips the
/// error it wraps, so wrapped errors are unwrapped by hand.
fn rustls_cause<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cause = Some(err);
    while let Some(current) = cause {
        if let Some(found) = current.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        cause = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    None
}

/// The innermost cause of an error chain: "connection refused" rather than
/// reqwest's "error sending request for url (...)".
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// A panel's reply: status and whole body. Debug shows the body's length only:
/// a body may carry a login token.
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// The body, at most 8 MiB.
    pub body: Vec<u8>,
    /// The panel's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .field("retry_after", &self.retry_after)
            .finish()
    }
}

impl Reply {
    /// 429 and the 5xx that are not the panel's own JSON answer become errors.
    fn checked(self) -> Result<Reply, AdapterError> {
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            return Err(AdapterError::RateLimited {
                retry_after: self.retry_after,
            });
        }
        let panel_json =
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&self.body)
                .is_ok();
        if self.status.is_server_error() && !panel_json {
            return Err(AdapterError::Unavailable {
                message: format!("HTTP {}: {}", self.status.as_u16(), self.excerpt()),
            });
        }
        Ok(self)
    }

    /// Parses the body as JSON; an HTML page or broken JSON is a protocol error
    /// quoting the start of the body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, AdapterError> {
        serde_json::from_slice(&self.body).map_err(|err| AdapterError::Protocol {
            message: format!(
                "HTTP {} with a body that is not the expected JSON ({err})",
                self.status.as_u16()
            ),
            excerpt: self.excerpt(),
        })
    }

    /// A bounded, single-line excerpt of the body.
    pub fn excerpt(&self) -> String {
        excerpt(&self.body)
    }
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_gains_a_trailing_slash_so_paths_join_under_it() {
        let url = parse_base_url("https://panel.example:6844/prefix").unwrap();
        assert_eq!(
            url.join("admin_api/").unwrap().as_str(),
            "https://panel.example:6844/prefix/admin_api/"
        );
    }

    #[test]
    fn raw_replies_by_length_chunks_or_close() {
        let by_length =
            parse_raw_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra").unwrap();
        assert_eq!(
            (by_length.status.as_u16(), by_length.body.as_slice()),
            (200, &b"{}"[..])
        );
        let chunked = parse_raw_reply(
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(chunked.body, b"{\"a\":1}");
        let to_close =
            parse_raw_reply(b"HTTP/1.1 404 Not Found\r\nRetry-After: 7\r\n\r\nnope").unwrap();
        assert_eq!(
            (to_close.body.as_slice(), to_close.retry_after),
            (&b"nope"[..], Some(Duration::from_secs(7)))
        );
    }

    #[test]
    fn broken_raw_replies_are_errors_not_panics() {
        assert!(matches!(
            parse_raw_reply(b""),
            Err(AdapterError::Unavailable { .. })
        ));
        assert!(matches!(
            parse_raw_reply(b"garbage\r\n\r\n"),
            Err(AdapterError::Protocol { .. })
        ));
        assert!(matches!(
            parse_raw_reply(b"HTTP/1.1 200 OK\r\nContent-Le"),
            Err(AdapterError::Protocol { .. })
        ));
        assert!(parse_raw_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{}").is_err());
        assert!(
            parse_raw_reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                .is_err()
        );
        assert!(
            parse_raw_reply(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nab"
            )
            .is_err()
        );
    }

    #[test]
    fn server_errors_are_unavailable_unless_the_panel_answers_json() {
        let reply = |status: u16, body: &str| Reply {
            status: StatusCode::from_u16(status).unwrap(),
            body: body.as_bytes().to_vec(),
            retry_after: None,
        };
        assert!(matches!(
            reply(502, "<html>bad gateway</html>").checked(),
            Err(AdapterError::Unavailable { .. })
        ));
        assert!(
            reply(500, "{\"success\": false, \"error\": \"x\"}")
                .checked()
                .is_ok()
        );
        assert!(matches!(
            reply(429, "{}").checked(),
            Err(AdapterError::RateLimited { .. })
        ));
    }

    #[test]
    fn base_url_must_be_http() {
        assert!(matches!(
            parse_base_url("ftp://x"),
            Err(AdapterError::Misconfigured(_))
        ));
        assert!(matches!(
            parse_base_url("not a url"),
            Err(AdapterError::Misconfigured(_))
        ));
    }

    #[test]
    fn excerpt_is_bounded_and_single_line() {
        let body = format!("<html>\n<body>{}</body></html>", "x".repeat(500));
        let text = excerpt(body.as_bytes());
        assert!(!text.contains('\n'));
        assert_eq!(text.chars().count(), EXCERPT_CHARS + 1);
    }
}

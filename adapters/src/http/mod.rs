//! Shared HTTP plumbing for every adapter: one client per TLS setting,
//! timeouts, request paths ([`UrlPath`]), bounded reply bodies, and the one
//! classification of replies by their status line ([`reply`]) and of
//! transport failures (timeout, refused, dropped). Redirects are never
//! followed. Panel code only builds requests and reads the 2xx and 4xx
//! replies let through.
//!
//! [`HttpClient::send_raw`] writes one HTTP/1.1 request by hand (see [`raw`]).

mod path;
mod raw;
mod reply;

use panelgate_proto::v1::ErrorReason;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use reqwest::{
    RequestBuilder, Url,
    header::{LOCATION, RETRY_AFTER},
    redirect,
};
use rustls::ClientConfig;
use tracing::{Span, debug};

pub use self::{
    path::UrlPath,
    reply::{Reply, excerpt},
};
pub use crate::tls::TlsOptions;
use crate::{
    AdapterError, Result,
    metrics::{PanelMetrics, ServerLabels, failure_outcome, status_outcome},
    tls,
};

/// Replies larger than this are refused as a protocol error.
const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;

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
    pub fn new(timeouts: Timeouts, metrics: PanelMetrics) -> Result<Self> {
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
    pub fn check(base_url: &str, options: &TlsOptions) -> Result<()> {
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
    ) -> Result<HttpClient> {
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

fn reqwest_client(timeouts: Timeouts, tls: &ClientConfig) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .user_agent(USER_AGENT)
        // A redirect would carry the panel's credentials to another host.
        .redirect(redirect::Policy::none())
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
fn parse_base_url(base_url: &str) -> Result<Url> {
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
    /// Starts a request to `path`, under the base URL.
    pub fn request(&self, method: reqwest::Method, path: impl Into<UrlPath>) -> RequestBuilder {
        self.client
            .request(method, path.into().under(&self.base_url))
    }

    /// The base URL, for building links the panel does not give.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Sends a request and reads the whole (bounded) reply, judged by its
    /// status line first (see [`reply`]): only 2xx and 4xx replies come back.
    pub async fn send(&self, request: RequestBuilder) -> Result<Reply> {
        self.send_reading(request, |_| None).await
    }

    /// [`HttpClient::send`], for panels that document refusals sent with a
    /// 5xx: `refusal` reads such a reply (see [`Reply`]'s checks).
    pub async fn send_reading(
        &self,
        request: RequestBuilder,
        refusal: impl FnOnce(&Reply) -> Option<AdapterError>,
    ) -> Result<Reply> {
        let started = Instant::now();
        let received = self.receive(request).await;
        self.observe(started, &received);
        received?.checked(refusal)
    }

    /// Sends a request and reads the reply as it came.
    async fn receive(&self, request: RequestBuilder) -> Result<Reply> {
        let mut response = request
            .send()
            .await
            .map_err(|err| self.transport_error(&err))?;
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
        };
        let retry_after = header(RETRY_AFTER).and_then(parse_retry_after);
        let location = header(LOCATION).and_then(|location| response.url().join(location).ok());

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
            location,
        })
    }

    /// Counts a call in the metrics and notes its status on the current
    /// call's span.
    fn observe(&self, started: Instant, received: &Result<Reply>) {
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

    /// Sends `method path HTTP/1.1` exactly as given (origin form, no body) on
    /// a fresh connection, with `headers`, and judges the reply as
    /// [`HttpClient::send`] does.
    pub async fn send_raw(
        &self,
        method: &str,
        path: &UrlPath,
        headers: &[(&str, &str)],
    ) -> Result<Reply> {
        let url = path.under(&self.base_url);
        let head = raw::head(method, &url, headers)?;
        let started = Instant::now();
        let exchange = raw::exchange(&url, &self.tls, self.timeouts.connect, head.as_bytes());
        let received = match tokio::time::timeout(self.timeouts.request, exchange).await {
            Ok(raw) => raw.and_then(|raw| raw::parse(&raw, &url)),
            Err(_) => Err(AdapterError::Timeout(self.timeouts.request)),
        };
        self.observe(started, &received);
        received?.checked(|_| None)
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

/// A `Retry-After` in seconds (the HTTP-date form is not used by panels).
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn too_large(body: &[u8]) -> AdapterError {
    AdapterError::protocol(
        format!("reply larger than {MAX_REPLY_BYTES} bytes"),
        &String::from_utf8_lossy(body),
    )
}

/// A refused panel certificate, found among an error's causes: a setting to
/// fix, not a failure a retry would cure.
fn untrusted_certificate(err: &(dyn std::error::Error + 'static)) -> Option<AdapterError> {
    let Some(rustls::Error::InvalidCertificate(problem)) = rustls_cause(err) else {
        return None;
    };
    Some(AdapterError::FailedPrecondition {
        reason: ErrorReason::UpstreamTlsUntrusted,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_gains_a_trailing_slash_so_paths_join_under_it() {
        let url = parse_base_url("https://panel.example:6844/prefix").unwrap();
        assert_eq!(
            UrlPath::route("admin_api/").under(&url).as_str(),
            "https://panel.example:6844/prefix/admin_api/"
        );
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
}

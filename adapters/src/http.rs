//! Shared HTTP plumbing for every adapter: one client per TLS setting, timeouts,
//! bounded reply bodies, and the transport-level error classification
//! (timeout, refused, dropped, 5xx, 429). Panel code only builds requests and
//! reads replies.

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode, Url, header::RETRY_AFTER};
use serde::de::DeserializeOwned;

use crate::AdapterError;

/// Replies larger than this are refused as a protocol error.
const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;
/// How much of an unreadable reply an error quotes.
const EXCERPT_CHARS: usize = 200;

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

/// How to verify a panel's TLS certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM of extra CAs to trust, besides the system roots.
    pub ca_pem: Option<String>,
    /// Accept any certificate (self-signed panels).
    pub insecure_skip_verify: bool,
}

/// The process-wide HTTP transport: a shared client for panels with default TLS,
/// and the timeouts every panel call gets.
#[derive(Clone, Debug)]
pub struct Transport {
    shared: reqwest::Client,
    timeouts: Timeouts,
}

impl Transport {
    /// Builds the shared client.
    pub fn new(timeouts: Timeouts) -> Result<Self, AdapterError> {
        let shared = builder(timeouts).build().map_err(|err| {
            AdapterError::Misconfigured(format!("cannot build HTTP client: {err}"))
        })?;
        Ok(Transport { shared, timeouts })
    }

    /// The client for one panel: the shared one, or a dedicated one when the
    /// server has its own TLS settings.
    pub fn client(&self, base_url: &str, tls: &TlsOptions) -> Result<HttpClient, AdapterError> {
        let base_url = parse_base_url(base_url)?;
        let client = if *tls == TlsOptions::default() {
            self.shared.clone()
        } else {
            let mut builder = builder(self.timeouts);
            if let Some(pem) = &tls.ca_pem {
                // Text without any PEM block parses as an empty bundle: refuse it
                // too, or a typo would silently trust nothing extra.
                let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                    .ok()
                    .filter(|certs| !certs.is_empty())
                    .ok_or_else(|| {
                        AdapterError::Misconfigured(
                            "tls.ca_pem is not valid PEM: no certificate found".into(),
                        )
                    })?;
                builder = builder.tls_certs_merge(certs);
            }
            if tls.insecure_skip_verify {
                builder = builder.tls_danger_accept_invalid_certs(true);
            }
            builder.build().map_err(|err| {
                AdapterError::Misconfigured(format!("cannot build HTTP client: {err}"))
            })?
        };
        Ok(HttpClient {
            client,
            base_url,
            timeout: self.timeouts.request,
        })
    }
}

fn builder(timeouts: Timeouts) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .user_agent(concat!("panelgate/", env!("CARGO_PKG_VERSION")))
}

fn parse_base_url(base_url: &str) -> Result<Url, AdapterError> {
    let mut url = Url::parse(base_url)
        .map_err(|err| AdapterError::Misconfigured(format!("base_url `{base_url}`: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AdapterError::Misconfigured(format!(
            "base_url `{base_url}` must be http or https"
        )));
    }
    // Joining relative paths keeps a base path only when it ends with '/'.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// The HTTP side of one panel: base URL and client.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: reqwest::Client,
    base_url: Url,
    timeout: Duration,
}

impl HttpClient {
    /// Starts a request to `path`, relative to the base URL (no leading '/').
    pub fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        let url = self
            .base_url
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| self.base_url.clone());
        self.client.request(method, url)
    }

    /// The base URL, for building links the panel does not give.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Sends a request and reads the whole (bounded) reply. Transport failures,
    /// 5xx and 429 become errors here; every other status is the panel's to read.
    pub async fn send(&self, request: RequestBuilder) -> Result<Reply, AdapterError> {
        let mut response = request
            .send()
            .await
            .map_err(|err| self.transport_error(&err))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);

        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| self.transport_error(&err))?
        {
            if body.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(AdapterError::Protocol {
                    message: format!("reply larger than {MAX_REPLY_BYTES} bytes"),
                    excerpt: excerpt(&body),
                });
            }
            body.extend_from_slice(&chunk);
        }

        let reply = Reply { status, body };
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(AdapterError::RateLimited { retry_after });
        }
        if status.is_server_error() {
            return Err(AdapterError::Unavailable {
                message: format!("HTTP {}: {}", status.as_u16(), reply.excerpt()),
            });
        }
        Ok(reply)
    }

    fn transport_error(&self, err: &reqwest::Error) -> AdapterError {
        if err.is_timeout() {
            return AdapterError::Timeout(self.timeout);
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

/// The innermost cause of an error chain: "connection refused" rather than
/// reqwest's "error sending request for url (...)".
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// A panel's reply: status and whole body.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// The body, at most 8 MiB.
    pub body: Vec<u8>,
}

impl Reply {
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
    fn ca_pem_must_hold_a_certificate() {
        let transport = Transport::new(Timeouts::default()).unwrap();
        for bad in ["this is not PEM", "", "-----BEGIN CERTIFICATE-----\nAAAA"] {
            let tls = TlsOptions {
                ca_pem: Some(bad.to_owned()),
                insecure_skip_verify: false,
            };
            assert!(
                matches!(
                    transport.client("https://panel.example", &tls),
                    Err(AdapterError::Misconfigured(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn excerpt_is_bounded_and_single_line() {
        let body = format!("<html>\n<body>{}</body></html>", "x".repeat(500));
        let text = excerpt(body.as_bytes());
        assert!(!text.contains('\n'));
        assert_eq!(text.chars().count(), EXCERPT_CHARS + 1);
    }
}
